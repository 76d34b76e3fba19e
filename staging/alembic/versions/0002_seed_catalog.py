"""Seed 1,000,000 active products (plus a few inactive ones) and the full-text index."""
from alembic import op

revision: str = "0002_seed_catalog"
down_revision: str = "0001_catalog"


def upgrade():
    op.execute(
        """
        INSERT INTO products (name, brand, category, price, currency, asin, active)
        VALUES ('Apple iPhone 13 128GB Midnight', 'Apple', 'phones', 599.00, 'USD', 'B09G9HDHJT', true)
        """
    )
    op.execute(
        """
        WITH kinds(k, category, noun) AS (
            VALUES (0, 'laptops', 'Laptop'), (1, 'phones', 'iPhone'), (2, 'phones', 'Android Phone'),
                   (3, 'accessories', 'Phone Case'), (4, 'audio', 'Headphones'), (5, 'tv', 'Smart TV'),
                   (6, 'kitchen', 'Coffee Maker'), (7, 'home', 'Vacuum Cleaner'), (8, 'tablets', 'Tablet'),
                   (9, 'gaming', 'Game Console'), (10, 'wearables', 'Smartwatch'), (11, 'cameras', 'Camera'),
                   (12, 'storage', 'SSD Drive'), (13, 'monitors', 'Monitor'), (14, 'books', 'Paperback'),
                   (15, 'toys', 'Building Set')
        ),
        brands(b, brand) AS (
            VALUES (0, 'Apple'), (1, 'Samsung'), (2, 'Lenovo'), (3, 'Dell'), (4, 'Sony'), (5, 'Anker'),
                   (6, 'Acer'), (7, 'Asus'), (8, 'Philips'), (9, 'Bose')
        )
        INSERT INTO products (name, brand, category, price, currency, asin, active)
        SELECT brands.brand || ' ' || kinds.noun || ' ' || (g % 97) || ' Series ' || g,
               brands.brand, kinds.category,
               round((5 + (g::bigint * 7919 % 250000) / 100.0)::numeric, 2),
               'USD',
               'S' || lpad(to_hex(g), 9, '0'),
               g <= 1000000
        FROM generate_series(1, 1000500) AS g
        JOIN kinds ON kinds.k = g % 16
        JOIN brands ON brands.b = (g / 16) % 10
        ORDER BY g % 16, g
        """
    )
    op.execute("CREATE INDEX products_search_idx ON products USING gin (search)")
    op.execute("CREATE INDEX products_active_idx ON products (active)")
    # Rows of a kind sit together (ORDER BY above), so a search reads a few thousand pages, not the table.
    with op.get_context().autocommit_block():
        op.execute("VACUUM ANALYZE products")


def downgrade():
    op.execute("DROP INDEX products_active_idx")
    op.execute("DROP INDEX products_search_idx")
    op.execute("TRUNCATE products RESTART IDENTITY")
