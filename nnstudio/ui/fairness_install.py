"""Mounting the Fairness tab: built when first shown (its charts need pyqtgraph), and
fed every run the Training panel finishes — also the runs that finished before the tab
was first opened, which it evaluates when it is built."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .window_part import WindowPart

if TYPE_CHECKING:
    from .fairness_view import FairnessView
    from .main_window import MainWindow

TAB_TITLE = "Fairness"


class FairnessController(WindowPart):
    """Owns the Fairness tab of ``window``; :attr:`view` builds it if need be."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._view: FairnessView | None = None
        self._waiting: list[tuple[Any, Any, str | None]] = []  # runs finished before the build
        self.tab = window.add_lazy_bottom_tab(TAB_TITLE, self._build)
        training = getattr(window, "training", None)
        if training is not None:
            training.when_built(self._follow)

    @property
    def view(self) -> FairnessView:
        self.tab.widget  # noqa: B018 (builds the page, which sets self._view)
        assert self._view is not None
        return self._view

    def _build(self):
        from .fairness_view import fairness_panel

        page, self._view = fairness_panel(self.window)
        for prepared, result, name in self._waiting:
            self._view.show_result(prepared, result, name)
        self._waiting.clear()
        return page

    def _follow(self, dock: Any) -> None:
        dock.run_finished.connect(lambda result, d=dock: self._on_run_finished(d, result))

    def _on_run_finished(self, dock: Any, result: Any) -> None:
        prepared = getattr(dock, "prepared", None)
        if prepared is None:
            return
        name = getattr(getattr(dock, "current", None), "name", None)
        if self._view is None:
            self._waiting.append((prepared, result, name))
        else:
            self._view.show_result(prepared, result, name)


def install_fairness(window: MainWindow) -> FairnessController:
    return FairnessController(window)
