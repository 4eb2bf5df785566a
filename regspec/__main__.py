from regspec.cli import entry

entry()
