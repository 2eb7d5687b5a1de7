"""The rewards catalogue ("coupons") with stock, vouchers and balance redemption."""
