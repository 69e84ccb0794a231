"""Plain functions, one job each. They take a Database or UnitOfWork explicitly and are the only committers."""
