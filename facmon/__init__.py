"""The facmon command line and the runtime that wires collector, rules, predictor and API into one service."""
