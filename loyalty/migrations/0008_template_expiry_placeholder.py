"""The templates name the placeholders of expiry reminders."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0007_program_settings_pending_queue"),
    ]

    operations = [
        migrations.AlterField(
            model_name="messagetemplate",
            name="body",
            field=models.TextField(
                help_text="Placeholders: {name}, {cashback}, {points}, {balance}, {digital_change}, {voucher_code}, {voucher_value}, {voucher_valid_until}, {amount}, {store}, {account}. Rewards expiring: {points} and {balance} are what expires, on {expiry_date} (dd/mm/aaaa)."
            ),
        ),
    ]
