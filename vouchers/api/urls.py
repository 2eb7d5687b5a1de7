"""Routes of the vouchers app in each API dialect."""

v2_urlpatterns: list = []
pos_urlpatterns: list = []
