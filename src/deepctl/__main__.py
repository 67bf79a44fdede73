from deepctl.entry import main

main()
