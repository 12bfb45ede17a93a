-- +goose Up
-- The HR demo backend: a small organisation in its own schema, readable only by the HR domain's
-- role. The HR worker connects and runs SET ROLE mcp_domain_hr, so it can read hr.* and nothing
-- else: not the ERP schema, not the platform's tables in public.

-- Roles are cluster-wide and many databases (tests, dev) share a server, so create it only when
-- missing, and tolerate a concurrent migration creating it at the same moment.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mcp_domain_hr') THEN
        BEGIN
            CREATE ROLE mcp_domain_hr NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- A non-superuser migrating (production) must be able to SET ROLE to it.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        BEGIN
            EXECUTE format('GRANT mcp_domain_hr TO %I', current_user);
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'cannot grant mcp_domain_hr to %: %; grant it by hand so the HR worker can SET ROLE', current_user, SQLERRM;
        END;
    END IF;
END
$$;
-- +goose StatementEnd

CREATE SCHEMA hr;

CREATE TABLE hr.departments (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Z]{2,5}$'),
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    location    text NOT NULL,
    -- The head is an employee; the foreign key is added once employees exist.
    head_id     text
);

CREATE TABLE hr.employees (
    id            text PRIMARY KEY CHECK (id ~ '^E[0-9]{3,6}$'),
    first_name    text          NOT NULL,
    last_name     text          NOT NULL,
    email         text          NOT NULL UNIQUE,
    title         text          NOT NULL,
    department_id text          NOT NULL REFERENCES hr.departments (id),
    manager_id    text          REFERENCES hr.employees (id),
    hire_date     date          NOT NULL,
    location      text          NOT NULL,
    status        text          NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_leave')),
    -- Annual base salary; sensitive: redacted for roles without read_sensitive on hr.
    salary        numeric(12, 2) NOT NULL CHECK (salary > 0),
    currency      text          NOT NULL DEFAULT 'USD',
    CHECK (manager_id IS DISTINCT FROM id)
);
CREATE INDEX employees_department_idx ON hr.employees (department_id);
CREATE INDEX employees_manager_idx ON hr.employees (manager_id);

ALTER TABLE hr.departments
    ADD CONSTRAINT departments_head_fk FOREIGN KEY (head_id) REFERENCES hr.employees (id);

INSERT INTO hr.departments (id, name, description, location) VALUES
    ('ENG', 'Engineering', 'Builds and runs the product: platform, product engineering, quality and security.', 'San Francisco'),
    ('SAL', 'Sales', 'New business and account management in North America and Europe.', 'New York'),
    ('FIN', 'Finance', 'Accounting, accounts receivable, payroll funding and financial planning.', 'New York'),
    ('HR', 'Human Resources', 'People operations: recruiting, HR business partnering, payroll and benefits.', 'Chicago'),
    ('OPS', 'Operations', 'Executive office, IT support and facilities.', 'Chicago'),
    ('MKT', 'Marketing', 'Brand, content, product marketing and growth.', 'Austin');

INSERT INTO hr.employees (id, first_name, last_name, email, title, department_id, manager_id, hire_date, location, status, salary) VALUES
    -- Executive team: the CEO and the department heads who report to her.
    ('E001', 'Sarah', 'Johnson', 'sarah.johnson@acme.example', 'Chief Executive Officer', 'OPS', NULL, '2014-03-03', 'Chicago', 'active', 320000),
    ('E002', 'Michael', 'Chen', 'michael.chen@acme.example', 'Chief Technology Officer', 'ENG', 'E001', '2014-06-16', 'San Francisco', 'active', 285000),
    ('E003', 'Emily', 'Rodriguez', 'emily.rodriguez@acme.example', 'VP of Sales', 'SAL', 'E001', '2016-09-12', 'New York', 'active', 240000),
    ('E004', 'David', 'Kim', 'david.kim@acme.example', 'Chief Financial Officer', 'FIN', 'E001', '2015-01-19', 'New York', 'active', 265000),
    ('E005', 'Priya', 'Patel', 'priya.patel@acme.example', 'VP of People', 'HR', 'E001', '2017-04-03', 'Chicago', 'active', 210000),
    ('E006', 'James', 'Wilson', 'james.wilson@acme.example', 'VP of Marketing', 'MKT', 'E001', '2018-02-26', 'Austin', 'active', 215000),
    -- Engineering.
    ('E007', 'Aisha', 'Okafor', 'aisha.okafor@acme.example', 'Engineering Manager, Platform', 'ENG', 'E002', '2017-08-14', 'San Francisco', 'active', 198000),
    ('E008', 'Daniel', 'Novak', 'daniel.novak@acme.example', 'Engineering Manager, Product', 'ENG', 'E002', '2018-05-07', 'San Francisco', 'active', 192000),
    ('E009', 'Lucas', 'Silva', 'lucas.silva@acme.example', 'Staff Software Engineer', 'ENG', 'E007', '2016-11-21', 'Remote', 'active', 205000),
    ('E010', 'Hannah', 'Becker', 'hannah.becker@acme.example', 'Senior Software Engineer', 'ENG', 'E007', '2019-03-18', 'San Francisco', 'active', 176000),
    ('E011', 'Ravi', 'Sharma', 'ravi.sharma@acme.example', 'Software Engineer', 'ENG', 'E007', '2022-07-11', 'Austin', 'active', 138000),
    ('E012', 'Olivia', 'Martin', 'olivia.martin@acme.example', 'Site Reliability Engineer', 'ENG', 'E007', '2020-10-05', 'Remote', 'active', 165000),
    ('E013', 'Kenji', 'Tanaka', 'kenji.tanaka@acme.example', 'Senior Software Engineer', 'ENG', 'E008', '2019-09-09', 'San Francisco', 'active', 178000),
    ('E014', 'Grace', 'Liu', 'grace.liu@acme.example', 'Software Engineer', 'ENG', 'E008', '2023-01-23', 'San Francisco', 'active', 142000),
    ('E015', 'Mateo', 'Garcia', 'mateo.garcia@acme.example', 'Frontend Engineer', 'ENG', 'E008', '2021-06-14', 'Austin', 'active', 148000),
    ('E016', 'Chloe', 'Dubois', 'chloe.dubois@acme.example', 'QA Engineer', 'ENG', 'E008', '2022-02-28', 'London', 'on_leave', 118000),
    ('E017', 'Noah', 'Williams', 'noah.williams@acme.example', 'Security Engineer', 'ENG', 'E002', '2020-04-20', 'Remote', 'active', 172000),
    -- Sales.
    ('E018', 'Marcus', 'Thompson', 'marcus.thompson@acme.example', 'Regional Sales Manager, East', 'SAL', 'E003', '2018-10-01', 'New York', 'active', 165000),
    ('E019', 'Sofia', 'Rossi', 'sofia.rossi@acme.example', 'Regional Sales Manager, West', 'SAL', 'E003', '2019-05-13', 'San Francisco', 'active', 162000),
    ('E020', 'Ethan', 'Brooks', 'ethan.brooks@acme.example', 'Account Executive', 'SAL', 'E018', '2021-03-08', 'New York', 'active', 112000),
    ('E021', 'Isabella', 'Moreno', 'isabella.moreno@acme.example', 'Account Executive', 'SAL', 'E018', '2022-09-19', 'New York', 'active', 108000),
    ('E022', 'Liam', 'Walsh', 'liam.walsh@acme.example', 'Account Executive', 'SAL', 'E019', '2020-11-30', 'London', 'active', 115000),
    ('E023', 'Zoe', 'Campbell', 'zoe.campbell@acme.example', 'Sales Development Representative', 'SAL', 'E019', '2024-01-15', 'Austin', 'active', 72000),
    ('E024', 'Benjamin', 'Hughes', 'benjamin.hughes@acme.example', 'Sales Engineer', 'SAL', 'E003', '2020-06-22', 'Remote', 'active', 145000),
    -- Finance.
    ('E025', 'Rachel', 'Adams', 'rachel.adams@acme.example', 'Finance Manager', 'FIN', 'E004', '2018-07-09', 'New York', 'active', 158000),
    ('E026', 'Tom', 'Fischer', 'tom.fischer@acme.example', 'Senior Accountant', 'FIN', 'E025', '2019-12-02', 'New York', 'active', 112000),
    ('E027', 'Mei', 'Wong', 'mei.wong@acme.example', 'Accounts Receivable Specialist', 'FIN', 'E025', '2023-04-17', 'Chicago', 'active', 76000),
    ('E028', 'Jonas', 'Berg', 'jonas.berg@acme.example', 'Financial Analyst', 'FIN', 'E004', '2021-08-23', 'New York', 'active', 98000),
    -- Human Resources.
    ('E029', 'Laura', 'Bennett', 'laura.bennett@acme.example', 'HR Business Partner', 'HR', 'E005', '2019-02-11', 'Chicago', 'active', 118000),
    ('E030', 'Samuel', 'Adeyemi', 'samuel.adeyemi@acme.example', 'Talent Acquisition Lead', 'HR', 'E005', '2020-09-14', 'Remote', 'active', 112000),
    ('E031', 'Nina', 'Kowalski', 'nina.kowalski@acme.example', 'Payroll and Benefits Specialist', 'HR', 'E029', '2022-05-02', 'Chicago', 'active', 78000),
    -- Operations (with the CEO's office).
    ('E032', 'Robert', 'Miller', 'robert.miller@acme.example', 'Director of Operations', 'OPS', 'E001', '2016-03-21', 'Chicago', 'active', 175000),
    ('E033', 'Ana', 'Lopez', 'ana.lopez@acme.example', 'IT Support Specialist', 'OPS', 'E032', '2021-11-08', 'Chicago', 'active', 74000),
    ('E034', 'Peter', 'Schmidt', 'peter.schmidt@acme.example', 'Facilities Coordinator', 'OPS', 'E032', '2019-07-29', 'Chicago', 'active', 64000),
    ('E035', 'Fatima', 'Hassan', 'fatima.hassan@acme.example', 'Executive Assistant', 'OPS', 'E001', '2018-01-08', 'Chicago', 'active', 82000),
    -- Marketing.
    ('E036', 'Julia', 'Costa', 'julia.costa@acme.example', 'Content Marketing Manager', 'MKT', 'E006', '2019-10-14', 'Austin', 'active', 128000),
    ('E037', 'Ahmed', 'Karim', 'ahmed.karim@acme.example', 'Product Marketing Manager', 'MKT', 'E006', '2020-02-03', 'San Francisco', 'active', 142000),
    ('E038', 'Emma', 'Clarke', 'emma.clarke@acme.example', 'Marketing Designer', 'MKT', 'E036', '2022-03-21', 'London', 'active', 92000),
    ('E039', 'Oscar', 'Lindqvist', 'oscar.lindqvist@acme.example', 'Growth Marketing Specialist', 'MKT', 'E037', '2023-06-05', 'Remote', 'active', 95000),
    ('E040', 'Lily', 'Evans', 'lily.evans@acme.example', 'Social Media Coordinator', 'MKT', 'E036', '2024-08-12', 'Austin', 'active', 68000);

UPDATE hr.departments d SET head_id = v.head_id
FROM (VALUES ('ENG', 'E002'), ('SAL', 'E003'), ('FIN', 'E004'), ('HR', 'E005'), ('OPS', 'E001'), ('MKT', 'E006')) AS v (id, head_id)
WHERE d.id = v.id;

-- Read-only access to its own schema, nothing else: every HR tool only reads.
GRANT USAGE ON SCHEMA hr TO mcp_domain_hr;
GRANT SELECT ON ALL TABLES IN SCHEMA hr TO mcp_domain_hr;

-- +goose Down
REVOKE ALL ON ALL TABLES IN SCHEMA hr FROM mcp_domain_hr;
REVOKE ALL ON SCHEMA hr FROM mcp_domain_hr;
DROP SCHEMA hr CASCADE;
