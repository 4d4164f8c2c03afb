"""The maintenance planner's pure core: PM rules and their triggers, windows, costs and the HiGHS model."""
