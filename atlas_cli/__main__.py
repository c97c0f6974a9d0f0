from atlas_cli.launcher import main

main()
