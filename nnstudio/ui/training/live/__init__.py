"""Renderers of the Live page, one module per kind of preview; every module here is
imported by :mod:`nnstudio.ui.training.live_view` and registers its renderer with
:func:`~nnstudio.ui.training.live_view.register_renderer`."""
