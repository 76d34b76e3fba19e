"""Record affiliate redirects."""
from alembic import op

revision = "0003_click_log"
down_revision = "0002_seed_catalog"


def upgrade():
    op.execute(
        """
        CREATE TABLE affiliate_clicks (
            id         bigserial PRIMARY KEY,
            asin       varchar(10) NOT NULL,
            clicked_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade():
    op.execute("DROP TABLE affiliate_clicks")
