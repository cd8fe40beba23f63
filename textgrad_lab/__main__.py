from textgrad_lab.cli import main

main()
