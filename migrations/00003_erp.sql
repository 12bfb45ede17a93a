-- +goose Up
-- The ERP demo backend: customers, invoices with lines, and inventory, in its own schema. The
-- ERP worker connects and runs SET ROLE mcp_domain_erp, which can read erp.* and create
-- invoices, and reach nothing else: not the HR schema, not the platform's tables in public.

-- Roles are cluster-wide and many databases (tests, dev) share a server, so create it only when
-- missing, and tolerate a concurrent migration creating it at the same moment.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mcp_domain_erp') THEN
        BEGIN
            CREATE ROLE mcp_domain_erp NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- A non-superuser migrating (production) must be able to SET ROLE to it.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        BEGIN
            EXECUTE format('GRANT mcp_domain_erp TO %I', current_user);
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'cannot grant mcp_domain_erp to %: %; grant it by hand so the ERP worker can SET ROLE', current_user, SQLERRM;
        END;
    END IF;
END
$$;
-- +goose StatementEnd

CREATE SCHEMA erp;

CREATE TABLE erp.customers (
    id                 text PRIMARY KEY CHECK (id ~ '^C[0-9]{3,6}$'),
    name               text    NOT NULL UNIQUE,
    contact_name       text    NOT NULL,
    email              text    NOT NULL,
    city               text    NOT NULL,
    country            text    NOT NULL DEFAULT 'US',
    currency           text    NOT NULL DEFAULT 'USD',
    payment_terms_days integer NOT NULL DEFAULT 30 CHECK (payment_terms_days BETWEEN 0 AND 365)
);
CREATE UNIQUE INDEX customers_lower_name_idx ON erp.customers (lower(name));

CREATE TABLE erp.inventory_items (
    sku              text PRIMARY KEY CHECK (sku ~ '^[A-Z]{2,4}-[0-9]{3,5}$'),
    name             text           NOT NULL,
    category         text           NOT NULL CHECK (category IN ('components', 'peripherals', 'networking', 'supplies')),
    quantity_on_hand integer        NOT NULL CHECK (quantity_on_hand >= 0),
    reorder_level    integer        NOT NULL CHECK (reorder_level >= 0),
    unit_price       numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
    supplier         text           NOT NULL,
    warehouse        text           NOT NULL
);
CREATE INDEX inventory_items_category_idx ON erp.inventory_items (category);

CREATE TABLE erp.invoices (
    id              text PRIMARY KEY CHECK (id ~ '^INV-[0-9]{3,}$'),
    customer_id     text           NOT NULL REFERENCES erp.customers (id),
    status          text           NOT NULL CHECK (status IN ('draft', 'sent', 'paid', 'overdue')),
    issue_date      date           NOT NULL DEFAULT CURRENT_DATE,
    due_date        date           NOT NULL,
    currency        text           NOT NULL DEFAULT 'USD',
    subtotal        numeric(12, 2) NOT NULL DEFAULT 0,
    tax_rate        numeric(6, 4)  NOT NULL DEFAULT 0.0825,
    tax             numeric(12, 2) NOT NULL DEFAULT 0,
    total           numeric(12, 2) NOT NULL DEFAULT 0,
    -- The idempotency key of the tool call that created the invoice (erp.create_invoice): a
    -- retried call finds its invoice here instead of creating a second one.
    idempotency_key text UNIQUE,
    -- A hash of the creating call's arguments, to refuse a key reused for a different invoice.
    request_hash    text,
    created_by      text           NOT NULL DEFAULT '',
    created_at      timestamptz    NOT NULL DEFAULT now(),
    CHECK (due_date >= issue_date),
    CHECK (total = subtotal + tax)
);
CREATE INDEX invoices_customer_idx ON erp.invoices (customer_id, issue_date DESC);
CREATE INDEX invoices_status_idx ON erp.invoices (status);

-- Numbers for invoices created by erp.create_invoice; the seed below uses INV-001..INV-025.
CREATE SEQUENCE erp.invoice_number_seq START 26 OWNED BY erp.invoices.id;

CREATE TABLE erp.invoice_lines (
    invoice_id  text           NOT NULL REFERENCES erp.invoices (id) ON DELETE CASCADE,
    line_no     integer        NOT NULL CHECK (line_no > 0),
    sku         text           REFERENCES erp.inventory_items (sku),
    description text           NOT NULL,
    quantity    integer        NOT NULL CHECK (quantity > 0),
    unit_price  numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
    line_total  numeric(12, 2) GENERATED ALWAYS AS (quantity * unit_price) STORED,
    PRIMARY KEY (invoice_id, line_no)
);

INSERT INTO erp.customers (id, name, contact_name, email, city, payment_terms_days) VALUES
    ('C001', 'Northwind Traders', 'Hannah Price', 'ap@northwindtraders.example', 'Seattle', 30),
    ('C002', 'Contoso Ltd', 'Mark Ellis', 'billing@contoso.example', 'Redmond', 30),
    ('C003', 'Fabrikam Inc', 'Julia Stern', 'accounts@fabrikam.example', 'Boston', 45),
    ('C004', 'Tailspin Toys', 'Carlos Mendes', 'finance@tailspintoys.example', 'Denver', 30),
    ('C005', 'Wide World Importers', 'Greta Holm', 'ap@wideworldimporters.example', 'San Diego', 60),
    ('C006', 'Adventure Works Cycles', 'Peter Ngata', 'payables@adventureworks.example', 'Portland', 30),
    ('C007', 'Litware Inc', 'Omar Haddad', 'billing@litware.example', 'Austin', 15),
    ('C008', 'Proseware Inc', 'Ingrid Larsen', 'ap@proseware.example', 'Chicago', 30),
    ('C009', 'Blue Yonder Airlines', 'Victor Hale', 'accounts.payable@blueyonder.example', 'Dallas', 45),
    ('C010', 'Coho Winery', 'Maria Santos', 'office@cohowinery.example', 'Napa', 15),
    ('C011', 'Alpine Ski House', 'Lukas Brunner', 'finance@alpineskihouse.example', 'Salt Lake City', 30),
    ('C012', 'Woodgrove Bank', 'Elizabeth Grant', 'vendor.payments@woodgrovebank.example', 'Charlotte', 60);

-- Several components (and a few other items) sit at or below their reorder level.
INSERT INTO erp.inventory_items (sku, name, category, quantity_on_hand, reorder_level, unit_price, supplier, warehouse) VALUES
    ('CMP-001', 'Intel Core i7-14700 Processor', 'components', 8, 15, 384.00, 'Ingram Micro', 'Chicago DC'),
    ('CMP-002', '32GB DDR5-5600 Memory Kit (2x16GB)', 'components', 12, 40, 109.00, 'Ingram Micro', 'Chicago DC'),
    ('CMP-003', '1TB NVMe PCIe 4.0 SSD', 'components', 60, 25, 79.00, 'TD Synnex', 'Chicago DC'),
    ('CMP-004', 'ATX Z790 Motherboard', 'components', 4, 10, 229.00, 'TD Synnex', 'Chicago DC'),
    ('CMP-005', '750W 80+ Gold Power Supply', 'components', 22, 20, 119.00, 'Ingram Micro', 'Chicago DC'),
    ('CMP-006', 'GeForce RTX 4070 Graphics Card', 'components', 3, 6, 599.00, 'TD Synnex', 'Chicago DC'),
    ('CMP-007', 'Tower CPU Cooler', 'components', 35, 15, 45.00, 'Ingram Micro', 'Chicago DC'),
    ('PER-001', '27-inch 4K USB-C Monitor', 'peripherals', 18, 10, 429.00, 'D&H Distributing', 'Reno DC'),
    ('PER-002', 'Wireless Keyboard', 'peripherals', 45, 20, 59.00, 'D&H Distributing', 'Reno DC'),
    ('PER-003', 'Wireless Ergonomic Mouse', 'peripherals', 9, 20, 39.00, 'D&H Distributing', 'Reno DC'),
    ('PER-004', 'USB-C Docking Station', 'peripherals', 14, 12, 189.00, 'D&H Distributing', 'Reno DC'),
    ('PER-005', '1080p HD Webcam', 'peripherals', 30, 15, 69.00, 'D&H Distributing', 'Reno DC'),
    ('PER-006', 'Noise-Cancelling Headset', 'peripherals', 10, 10, 149.00, 'D&H Distributing', 'Reno DC'),
    ('NET-001', '24-Port Gigabit Managed Switch', 'networking', 7, 5, 279.00, 'TD Synnex', 'Chicago DC'),
    ('NET-002', 'Wi-Fi 6 Access Point', 'networking', 2, 5, 169.00, 'TD Synnex', 'Chicago DC'),
    ('SUP-001', 'A4 Copy Paper, 500 Sheets', 'supplies', 120, 50, 6.50, 'Staples Business', 'Reno DC'),
    ('SUP-002', 'Black Toner Cartridge', 'supplies', 6, 10, 89.00, 'Staples Business', 'Reno DC'),
    ('SUP-003', 'Cat6 Patch Cable, 2 m', 'supplies', 200, 100, 4.75, 'Staples Business', 'Reno DC'),
    ('SUP-004', 'Thermal Paste, 4 g', 'supplies', 25, 20, 8.99, 'Staples Business', 'Reno DC'),
    ('SUP-005', 'Anti-Static Wrist Strap', 'supplies', 40, 15, 7.25, 'Staples Business', 'Reno DC');

-- Dates are relative to the day the database is seeded, so sent invoices are not yet due and
-- overdue ones are past due whenever the demo runs.
INSERT INTO erp.invoices (id, customer_id, status, issue_date, due_date)
SELECT v.id, v.customer_id, v.status, CURRENT_DATE - v.age, CURRENT_DATE - v.age + v.terms
FROM (VALUES
    ('INV-001', 'C001', 'paid', 150, 30),
    ('INV-002', 'C002', 'paid', 140, 30),
    ('INV-003', 'C003', 'paid', 130, 45),
    ('INV-004', 'C005', 'paid', 120, 60),
    ('INV-005', 'C004', 'overdue', 95, 30),
    ('INV-006', 'C006', 'paid', 90, 30),
    ('INV-007', 'C007', 'paid', 85, 15),
    ('INV-008', 'C009', 'overdue', 80, 45),
    ('INV-009', 'C008', 'paid', 75, 30),
    ('INV-010', 'C010', 'paid', 70, 15),
    ('INV-011', 'C012', 'paid', 65, 60),
    ('INV-012', 'C001', 'overdue', 60, 30),
    ('INV-013', 'C011', 'paid', 55, 30),
    ('INV-014', 'C002', 'sent', 20, 30),
    ('INV-015', 'C003', 'overdue', 50, 45),
    ('INV-016', 'C004', 'paid', 45, 30),
    ('INV-017', 'C005', 'sent', 25, 60),
    ('INV-018', 'C006', 'sent', 18, 30),
    ('INV-019', 'C007', 'sent', 10, 15),
    ('INV-020', 'C008', 'sent', 14, 30),
    ('INV-021', 'C009', 'sent', 8, 45),
    ('INV-022', 'C012', 'sent', 5, 60),
    ('INV-023', 'C001', 'draft', 2, 30),
    ('INV-024', 'C010', 'draft', 1, 15),
    ('INV-025', 'C011', 'draft', 0, 30)
) AS v (id, customer_id, status, age, terms);

-- Lines with a SKU take the item's name and price; service lines carry their own.
INSERT INTO erp.invoice_lines (invoice_id, line_no, sku, description, quantity, unit_price)
SELECT v.invoice_id, v.line_no, v.sku, coalesce(v.description, i.name), v.quantity, coalesce(v.unit_price, i.unit_price)
FROM (VALUES
    ('INV-001', 1, 'CMP-001', NULL::text, 10, NULL::numeric),
    ('INV-001', 2, 'CMP-002', NULL, 10, NULL),
    ('INV-001', 3, NULL, 'Workstation assembly and testing', 10, 95.00),
    ('INV-002', 1, 'PER-001', NULL, 5, NULL),
    ('INV-002', 2, 'PER-002', NULL, 5, NULL),
    ('INV-002', 3, 'PER-003', NULL, 5, NULL),
    ('INV-003', 1, 'NET-001', NULL, 2, NULL),
    ('INV-003', 2, 'NET-002', NULL, 6, NULL),
    ('INV-003', 3, NULL, 'Network setup and configuration', 1, 650.00),
    ('INV-004', 1, 'SUP-001', NULL, 40, NULL),
    ('INV-004', 2, 'SUP-002', NULL, 4, NULL),
    ('INV-005', 1, 'PER-004', NULL, 12, NULL),
    ('INV-005', 2, 'PER-005', NULL, 12, NULL),
    ('INV-006', 1, 'CMP-006', NULL, 2, NULL),
    ('INV-006', 2, 'CMP-004', NULL, 2, NULL),
    ('INV-006', 3, 'CMP-005', NULL, 2, NULL),
    ('INV-007', 1, 'SUP-003', NULL, 50, NULL),
    ('INV-007', 2, 'SUP-005', NULL, 10, NULL),
    ('INV-008', 1, 'PER-006', NULL, 25, NULL),
    ('INV-008', 2, NULL, 'Annual hardware support plan', 1, 1800.00),
    ('INV-009', 1, 'CMP-003', NULL, 20, NULL),
    ('INV-009', 2, 'CMP-007', NULL, 20, NULL),
    ('INV-010', 1, 'SUP-001', NULL, 10, NULL),
    ('INV-010', 2, 'PER-002', NULL, 2, NULL),
    ('INV-011', 1, 'PER-001', NULL, 20, NULL),
    ('INV-011', 2, 'PER-004', NULL, 20, NULL),
    ('INV-011', 3, NULL, 'On-site installation (per hour)', 16, 125.00),
    ('INV-012', 1, 'CMP-001', NULL, 4, NULL),
    ('INV-012', 2, 'CMP-004', NULL, 4, NULL),
    ('INV-012', 3, 'CMP-002', NULL, 4, NULL),
    ('INV-013', 1, 'NET-002', NULL, 3, NULL),
    ('INV-013', 2, 'SUP-003', NULL, 30, NULL),
    ('INV-014', 1, 'PER-005', NULL, 8, NULL),
    ('INV-014', 2, 'PER-006', NULL, 8, NULL),
    ('INV-015', 1, 'CMP-006', NULL, 4, NULL),
    ('INV-015', 2, NULL, 'Workstation assembly and testing', 4, 95.00),
    ('INV-016', 1, 'SUP-002', NULL, 6, NULL),
    ('INV-016', 2, 'SUP-001', NULL, 25, NULL),
    ('INV-017', 1, 'PER-001', NULL, 10, NULL),
    ('INV-017', 2, 'PER-002', NULL, 10, NULL),
    ('INV-017', 3, 'PER-003', NULL, 10, NULL),
    ('INV-018', 1, 'CMP-003', NULL, 15, NULL),
    ('INV-018', 2, 'CMP-005', NULL, 5, NULL),
    ('INV-019', 1, 'SUP-004', NULL, 12, NULL),
    ('INV-019', 2, 'SUP-005', NULL, 12, NULL),
    ('INV-020', 1, 'NET-001', NULL, 1, NULL),
    ('INV-020', 2, NULL, 'Network setup and configuration', 1, 650.00),
    ('INV-021', 1, 'PER-004', NULL, 6, NULL),
    ('INV-021', 2, NULL, 'On-site installation (per hour)', 6, 125.00),
    ('INV-022', 1, NULL, 'Annual hardware support plan', 3, 1800.00),
    ('INV-023', 1, 'CMP-001', NULL, 2, NULL),
    ('INV-023', 2, 'CMP-002', NULL, 2, NULL),
    ('INV-023', 3, 'CMP-003', NULL, 2, NULL),
    ('INV-024', 1, 'SUP-001', NULL, 5, NULL),
    ('INV-025', 1, 'PER-006', NULL, 4, NULL),
    ('INV-025', 2, 'PER-003', NULL, 4, NULL)
) AS v (invoice_id, line_no, sku, description, quantity, unit_price)
LEFT JOIN erp.inventory_items i ON i.sku = v.sku;

-- Totals from the lines, with the invoice's tax rate rounded to the cent.
UPDATE erp.invoices inv
SET subtotal = s.subtotal,
    tax      = round(s.subtotal * inv.tax_rate, 2),
    total    = s.subtotal + round(s.subtotal * inv.tax_rate, 2)
FROM (SELECT invoice_id, sum(line_total) AS subtotal FROM erp.invoice_lines GROUP BY invoice_id) s
WHERE s.invoice_id = inv.id;

-- Read everything in its own schema; create invoices (with their lines) and nothing more: no
-- updates or deletes, no access to stock levels beyond reading them.
GRANT USAGE ON SCHEMA erp TO mcp_domain_erp;
GRANT SELECT ON ALL TABLES IN SCHEMA erp TO mcp_domain_erp;
GRANT INSERT ON erp.invoices, erp.invoice_lines TO mcp_domain_erp;
GRANT USAGE ON SEQUENCE erp.invoice_number_seq TO mcp_domain_erp;

-- +goose Down
REVOKE ALL ON ALL SEQUENCES IN SCHEMA erp FROM mcp_domain_erp;
REVOKE ALL ON ALL TABLES IN SCHEMA erp FROM mcp_domain_erp;
REVOKE ALL ON SCHEMA erp FROM mcp_domain_erp;
DROP SCHEMA erp CASCADE;
