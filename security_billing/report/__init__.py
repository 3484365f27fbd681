from . import report_security_xlsx_abstract
from . import report_mmr_aging_xlsx
from . import report_rmr_xlsx
from . import report_app_usage_xlsx
