"""Sales in the server-to-server dialect: serializers (`serializers`) and the viewset (`views`)."""

from sales.api.v2.views import SaleViewSet

__all__ = ["SaleViewSet"]
