"""Tests of products, categories, promotions and the discount quote."""
