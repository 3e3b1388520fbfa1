"""The engines, one package each, behind the interface of base.py; registered in
orchestration/registry.py."""
