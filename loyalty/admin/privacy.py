"""The customer page's LGPD actions (export and anonymise), added to the customers' admin.

They compose every app's data (`loyalty.shell.privacy`), which the customers app cannot
reach from below, so the project's admin registers the customer admin with them.
"""

import json

from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from customers.admin import CustomerAdmin
from customers.models import Customer
from loyalty.api.renderers import AmountJSONEncoder
from loyalty.shell.privacy import customer_data_export, customer_erase


class CustomerWithPrivacyAdmin(CustomerAdmin):
    actions = ["export_selected", "anonymize_selected"]

    @admin.action(description=_("Export selected customers' data (LGPD, JSON)"))
    def export_selected(self, request, queryset):
        data = {
            str(customer.pk): customer_data_export(customer=customer)
            for customer in queryset.prefetch_related("wallet")
        }
        if len(data) == 1:
            data = next(iter(data.values()))
        # The API's encoder, so that amounts are the same JSON numbers in both exports.
        response = HttpResponse(
            json.dumps(data, cls=AmountJSONEncoder, ensure_ascii=False, indent=2),
            content_type="application/json",
        )
        name = f"customer-{data['customer']['id']}" if "customer" in data else "customers"
        response["Content-Disposition"] = f'attachment; filename="{name}-export.json"'
        return response

    @admin.action(description=_("Anonymise selected customers (LGPD)"), permissions=["change"])
    def anonymize_selected(self, request, queryset):
        if request.POST.get("confirmed") == "yes":
            for customer in queryset:
                customer_erase(customer=customer)
            count = queryset.count()
            self.message_user(
                request,
                ngettext(
                    "%(count)d customer anonymised; their ledger and sales stay.",
                    "%(count)d customers anonymised; their ledger and sales stay.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Anonymise customers?"),
            "customers": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/customers/customer/anonymize_confirmation.html", context)


# `customers.admin` registered the customer admin when it was imported above.
admin.site.unregister(Customer)
admin.site.register(Customer, CustomerWithPrivacyAdmin)
