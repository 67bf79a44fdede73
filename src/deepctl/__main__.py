from deepctl.cli import main

main()
