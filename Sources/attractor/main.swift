import AttractorCommands

FastBLASKernels.relaunchIfNeeded()
Attractor.main()
