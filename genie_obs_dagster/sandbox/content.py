"""Domain vocabulary for generated Genie spaces: tables, questions with their SQL, instructions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    text: str
    sql: str | None  # None: Genie answers in text only
    description: str


@dataclass(frozen=True)
class Domain:
    name: str
    title: str
    tables: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    questions: tuple[Question, ...]
    instruction: str
    joins: tuple[tuple[str, str, str], ...]  # (left table, right table, join sql)


DOMAINS: tuple[Domain, ...] = (
    Domain(
        name="sales",
        title="Sales performance",
        tables=("sales.core.orders", "sales.core.customers", "sales.core.regions"),
        columns={
            "sales.core.orders": ("order_id", "customer_id", "order_date", "amount", "region_id"),
            "sales.core.customers": ("customer_id", "name", "segment"),
            "sales.core.regions": ("region_id", "region_name"),
        },
        questions=(
            Question("What were total sales by region last month?",
                     "SELECT r.region_name, SUM(o.amount) AS total_sales FROM sales.core.orders o JOIN sales.core.regions r ON o.region_id = r.region_id WHERE o.order_date >= add_months(date_trunc('MONTH', current_date()), -1) AND o.order_date < date_trunc('MONTH', current_date()) GROUP BY r.region_name ORDER BY total_sales DESC",
                     "Total order amount per region for the previous calendar month."),
            Question("Who are our top 10 customers by revenue?",
                     "SELECT c.name, SUM(o.amount) AS revenue FROM sales.core.orders o JOIN sales.core.customers c ON o.customer_id = c.customer_id GROUP BY c.name ORDER BY revenue DESC LIMIT 10",
                     "Customers ranked by total order amount."),
            Question("How many orders did we get each week this quarter?",
                     "SELECT date_trunc('WEEK', order_date) AS week, COUNT(*) AS orders FROM sales.core.orders WHERE order_date >= date_trunc('QUARTER', current_date()) GROUP BY 1 ORDER BY 1",
                     "Weekly order counts for the current quarter."),
            Question("What is the average order value by customer segment?",
                     "SELECT c.segment, AVG(o.amount) AS avg_order_value FROM sales.core.orders o JOIN sales.core.customers c ON o.customer_id = c.customer_id GROUP BY c.segment",
                     "Mean order amount per customer segment."),
            Question("Why did sales drop in EMEA?", None, "Explanation without a query."),
        ),
        instruction="Revenue means SUM(amount) of orders. Fiscal quarters follow calendar quarters.",
        joins=(("sales.core.orders", "sales.core.customers", "orders.customer_id = customers.customer_id"),
               ("sales.core.orders", "sales.core.regions", "orders.region_id = regions.region_id")),
    ),
    Domain(
        name="supply",
        title="Supply chain",
        tables=("ops.supply.shipments", "ops.supply.warehouses", "ops.supply.stations"),
        columns={
            "ops.supply.shipments": ("shipment_id", "warehouse_id", "shipped_at", "delivered_at", "status"),
            "ops.supply.warehouses": ("warehouse_id", "city", "capacity"),
            "ops.supply.stations": ("station_id", "risk_level", "city"),
        },
        questions=(
            Question("How many stations are at high risk?",
                     "SELECT COUNT(*) AS high_risk_stations FROM ops.supply.stations WHERE risk_level = 'HIGH'",
                     "Count of stations whose risk level is HIGH."),
            Question("What is the average delivery time per warehouse?",
                     "SELECT w.city, AVG(timestampdiff(HOUR, s.shipped_at, s.delivered_at)) AS avg_hours FROM ops.supply.shipments s JOIN ops.supply.warehouses w ON s.warehouse_id = w.warehouse_id GROUP BY w.city",
                     "Mean hours from shipping to delivery per warehouse city."),
            Question("Which warehouses are above 90% capacity?",
                     "SELECT city, capacity FROM ops.supply.warehouses WHERE capacity > 0.9",
                     "Warehouses with capacity utilisation over 90%."),
            Question("Show late shipments from last week",
                     "SELECT shipment_id, shipped_at, delivered_at FROM ops.supply.shipments WHERE status = 'LATE' AND shipped_at >= current_date() - INTERVAL 7 DAYS",
                     "Shipments flagged LATE in the last seven days."),
        ),
        instruction="A shipment is late when status = 'LATE'. Times are UTC.",
        joins=(("ops.supply.shipments", "ops.supply.warehouses", "shipments.warehouse_id = warehouses.warehouse_id"),),
    ),
    Domain(
        name="hr",
        title="People analytics",
        tables=("hr.core.employees", "hr.core.departments"),
        columns={
            "hr.core.employees": ("employee_id", "department_id", "hire_date", "salary", "location"),
            "hr.core.departments": ("department_id", "department_name"),
        },
        questions=(
            Question("How many people did we hire per department this year?",
                     "SELECT d.department_name, COUNT(*) AS hires FROM hr.core.employees e JOIN hr.core.departments d ON e.department_id = d.department_id WHERE year(e.hire_date) = year(current_date()) GROUP BY d.department_name",
                     "New hires this calendar year per department."),
            Question("What is the headcount by location?",
                     "SELECT location, COUNT(*) AS headcount FROM hr.core.employees GROUP BY location ORDER BY headcount DESC",
                     "Employees per office location."),
            Question("What is the median salary in engineering?",
                     "SELECT percentile_approx(salary, 0.5) AS median_salary FROM hr.core.employees e JOIN hr.core.departments d ON e.department_id = d.department_id WHERE d.department_name = 'Engineering'",
                     "Approximate median salary of the Engineering department."),
            Question("Summarise attrition risks for next quarter", None, "Narrative answer without a query."),
        ),
        instruction="Never show individual salaries; aggregate to at least five people.",
        joins=(("hr.core.employees", "hr.core.departments", "employees.department_id = departments.department_id"),),
    ),
    Domain(
        name="finance",
        title="Finance close",
        tables=("finance.gl.journal_entries", "finance.gl.accounts", "finance.gl.cost_centers"),
        columns={
            "finance.gl.journal_entries": ("entry_id", "account_id", "cost_center_id", "posted_at", "amount"),
            "finance.gl.accounts": ("account_id", "account_name", "account_type"),
            "finance.gl.cost_centers": ("cost_center_id", "cost_center_name"),
        },
        questions=(
            Question("What is operating expense by cost center this month?",
                     "SELECT c.cost_center_name, SUM(j.amount) AS opex FROM finance.gl.journal_entries j JOIN finance.gl.accounts a ON j.account_id = a.account_id JOIN finance.gl.cost_centers c ON j.cost_center_id = c.cost_center_id WHERE a.account_type = 'OPEX' AND j.posted_at >= date_trunc('MONTH', current_date()) GROUP BY c.cost_center_name",
                     "Operating expense per cost center for the current month."),
            Question("Show journal entries over 1M posted yesterday",
                     "SELECT entry_id, account_id, amount FROM finance.gl.journal_entries WHERE amount > 1000000 AND to_date(posted_at) = current_date() - 1",
                     "Large journal entries from the previous day."),
            Question("How does revenue compare to last year?",
                     "SELECT year(posted_at) AS yr, SUM(amount) AS revenue FROM finance.gl.journal_entries j JOIN finance.gl.accounts a ON j.account_id = a.account_id WHERE a.account_type = 'REVENUE' GROUP BY 1 ORDER BY 1",
                     "Revenue per year."),
        ),
        instruction="Amounts are in USD. Revenue accounts have account_type = 'REVENUE'.",
        joins=(("finance.gl.journal_entries", "finance.gl.accounts", "journal_entries.account_id = accounts.account_id"),),
    ),
)

FAILURE_TYPES: tuple[tuple[str, str], ...] = (
    ("SQL_EXECUTION_EXCEPTION", "[TABLE_OR_VIEW_NOT_FOUND] The table or view cannot be found."),
    ("TABLES_MISSING_EXCEPTION", "Some tables referenced by the space are missing or inaccessible."),
    ("WAREHOUSE_ACCESS_MISSING_EXCEPTION", "The user does not have CAN USE on the space's SQL warehouse."),
    ("REPLY_PROCESS_TIMEOUT_EXCEPTION", "Genie did not finish answering in time."),
    ("GENERIC_CHAT_COMPLETION_EXCEPTION", "The model could not complete the request."),
)

FIRST_NAMES = ("ana", "ben", "chen", "dara", "eli", "fatima", "goran", "hana", "ivan", "jia", "kofi", "lena",
               "mateo", "nia", "omar", "priya", "quinn", "ravi", "sofia", "tariq", "uma", "viktor", "wen", "yusuf")
LAST_NAMES = ("alvarez", "brown", "cohen", "diallo", "evans", "fischer", "gupta", "haddad", "ito", "jensen",
              "kim", "larsen", "mendes", "novak", "okafor", "petrov")
