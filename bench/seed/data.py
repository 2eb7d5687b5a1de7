"""The benchmark account's data: its size and everything that follows from a position.

Deterministic: a customer's CPF, contacts and history, a product's barcode and price
follow from their position, so the wallets can be written as the exact sums of their rows.
"""

import operator
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from customers.models import LedgerEntry

BATCH_SIZE = 5_000
ZERO = Decimal(0)
HISTORY_REASON = "Imported history"
PURCHASE_CYCLE = 5  # ledger rows of one past purchase: see `customer_history`
CASHBACK_PERCENT = 5

CATEGORY_TREE = {
    "Mercearia": ("Arroz e feijão", "Massas", "Óleos e azeites", "Café", "Açúcar"),
    "Bebidas": ("Refrigerantes", "Sucos", "Águas", "Cervejas", "Vinhos"),
    "Hortifruti": ("Frutas", "Legumes", "Verduras", "Ovos", "Temperos"),
    "Padaria": ("Pães", "Bolos", "Salgados", "Doces", "Torradas"),
    "Laticínios": ("Leites", "Queijos", "Iogurtes", "Manteigas", "Requeijões"),
    "Carnes": ("Bovinos", "Aves", "Suínos", "Peixes", "Embutidos"),
    "Limpeza": ("Detergentes", "Sabão em pó", "Desinfetantes", "Esponjas", "Amaciantes"),
    "Higiene": ("Sabonetes", "Xampus", "Cremes dentais", "Desodorantes", "Papel higiênico"),
    "Biscoitos e chocolates": ("Biscoitos", "Chocolates", "Salgadinhos", "Balas", "Cereais"),
    "Congelados": ("Pizzas", "Lasanhas", "Sorvetes", "Hambúrgueres", "Vegetais congelados"),
}
FIRST_NAMES = ("Ana", "Bruno", "Carla", "Daniel", "Elaine", "Fábio", "Gabriela", "Heitor", "Isabela", "João")
LAST_NAMES = (
    "Almeida",
    "Barbosa",
    "Costa",
    "Dias",
    "Ferreira",
    "Gomes",
    "Lima",
    "Moura",
    "Souza",
    "Teixeira",
)
REWARDS = (
    ("Vale compras R$ 10", 50, 10),
    ("Vale compras R$ 20", 100, 20),
    ("Vale compras R$ 50", 250, 50),
    ("Caneca", 300, 35),
    ("Sacola retornável", 80, 15),
)

SAMPLE_DOCUMENTS = 2_000
SAMPLE_PRODUCTS = 200
SAMPLE_VOUCHERS = 500


@dataclass(frozen=True)
class BenchSize:
    customers: int = 100_000
    ledger_rows: int = 1_000_000
    products: int = 5_000
    promotions: int = 500
    rewards_stock: int = 1_000

    @property
    def vouchers(self) -> int:
        return max(self.customers // 10, 1)

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("The benchmark account needs at least one customer.")
        if self.ledger_rows < 0 or self.products < 0 or self.promotions < 0:
            raise ValueError("Counts cannot be negative.")
        if self.promotions > self.products:
            raise ValueError("Each promotion is on its own product: promotions cannot outnumber products.")


def cpf_with_check_digits(base: str) -> str:
    """The CPF of nine base digits: the base followed by its two check digits."""
    digits = [int(char) for char in base]
    for weight in (10, 11):
        total = sum(digit * (weight - position) for position, digit in enumerate(digits))
        digits.append(total * 10 % 11 % 10)
    return "".join(str(digit) for digit in digits)


def customer_document(index: int) -> str:
    # Bases from 100000001 in steps of 7 are distinct and never all one repeated digit.
    return cpf_with_check_digits(str(100_000_001 + index * 7))


def cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def ledger_rows_of(index: int, size: BenchSize) -> int:
    """The customer's share of the ledger: an even split, the remainder to the first ones."""
    share, remainder = divmod(size.ledger_rows, size.customers)
    return share + (1 if index < remainder else 0)


# The wallet fields a ledger row moves, in the order of the bulk rows below.
AMOUNT_FIELDS = (
    "points",
    "balance",
    "digital_change",
    "pending_points",
    "pending_balance",
    "total_shoppings",
    "count_shoppings",
    "total_discounts",
)
PURCHASES = AMOUNT_FIELDS.index("count_shoppings")


def customer_history(index: int, rows: int) -> Iterator[tuple[str, tuple[int, ...]]]:
    """The customer's past, oldest first: (kind, deltas) per ledger row.

    Deltas follow `AMOUNT_FIELDS`, in cents (points in hundredths), purchases counted
    whole. Each past purchase is up to five rows: its totals, 5 % cashback, a point per
    real, some digital change, and half of that cashback spent at a till; so balances
    stay positive and every bucket a till reads moves.
    """
    for position in range(rows):
        purchase, step = divmod(position, PURCHASE_CYCLE)
        amount = 5_000 + (index * 7_919 + purchase * 104_729) % 25_000
        cashback = amount * CASHBACK_PERCENT // 100
        if step == 0:
            yield LedgerEntry.Kind.PURCHASE, (0, 0, 0, 0, 0, amount, 1, amount // 25)
        elif step == 1:
            yield LedgerEntry.Kind.CASHBACK, (0, cashback, 0, 0, 0, 0, 0, 0)
        elif step == 2:
            yield LedgerEntry.Kind.POINTS, (amount, 0, 0, 0, 0, 0, 0, 0)
        elif step == 3:
            yield LedgerEntry.Kind.DIGITAL_CHANGE_CREDIT, (0, 0, amount % 97 + 1, 0, 0, 0, 0, 0)
        else:
            yield LedgerEntry.Kind.BALANCE_REDEEM, (0, -(cashback // 2), 0, 0, 0, 0, 0, 0)


def history_totals(index: int, rows: int) -> tuple[int, ...]:
    totals = (0,) * len(AMOUNT_FIELDS)
    for _, deltas in customer_history(index, rows):
        totals = tuple(map(operator.add, totals, deltas))
    return totals


def amounts(deltas: tuple[int, ...]) -> tuple[Decimal | int, ...]:
    """Deltas as the model fields hold them: Decimals, and a whole count of purchases."""
    return tuple(
        value if position == PURCHASES else cents(value) if value else ZERO
        for position, value in enumerate(deltas)
    )
