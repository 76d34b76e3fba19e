"""Create the product catalog."""
from alembic import op

revision = "0001_catalog"
down_revision = None


def upgrade():
    op.execute(
        """
        CREATE TABLE products (
            id          bigserial PRIMARY KEY,
            name        text NOT NULL,
            brand       text NOT NULL,
            category    text NOT NULL,
            price       numeric(10, 2) NOT NULL CHECK (price >= 0),
            currency    char(3) NOT NULL DEFAULT 'USD',
            asin        varchar(10) NOT NULL UNIQUE,
            active      boolean NOT NULL DEFAULT true,
            scraped_at  timestamptz NOT NULL DEFAULT now(),
            search      tsvector GENERATED ALWAYS AS (
                to_tsvector('simple', name || ' ' || brand || ' ' || category)
            ) STORED
        )
        """
    )


def downgrade():
    op.execute("DROP TABLE products")
