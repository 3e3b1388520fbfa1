"""The sources, one package each, behind the interface of base.py; registered in
orchestration/registry.py. text_files.py is the one rule for CSV and NDJSON files, whatever
source wrote them."""
