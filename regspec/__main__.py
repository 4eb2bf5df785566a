from regspec.cli import main

main()
