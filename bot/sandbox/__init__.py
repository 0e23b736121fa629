"""The offline sandbox: the real Application on an offline request object."""
