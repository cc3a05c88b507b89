from incident_tui.cli import main

main()
