import AttractorCommands

Attractor.main()
