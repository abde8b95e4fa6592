"""Typed clients for reading another KPP service's data over HTTP, one module per kind of
data and one error mapping each: ``registry`` (a project, from the registry) and ``units``
(the unit directory and its leaders, from the gateway). They sit on the kernel (``shared.http``,
``shared.errors``); the kernel never imports them (tests/spine/test_layering.py)."""
