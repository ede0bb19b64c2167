import AttractorModels

/// The context energy's Jacobians (``/AttractorModels/ContextEnergy/jacobian(at:)``) and Hessians
/// (``/AttractorModels/ContextEnergy/hessian(at:)``) are closed forms, so analysis uses them.
extension ContextEnergy: AnalyzableRule {}
