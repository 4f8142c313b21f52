"""The model: the registry of layer kinds, spec checking, the graph, costing, what-ifs and sweeps."""
