"""Products, categories, product promotions and the POS discount quote."""
