// Every test of this project runs the cluster simulator (those that also run a real control plane carry
// Lane=RealApiServer from their collection as well): docs/testing.md, "Lanes".
[assembly: Trait("Lane", "Simulator")]
