"""The dashboard as a responder sees it, at 80×24 and at a wide 160×48."""

from helpers import settle


def test_dashboard_80x24(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=(80, 24))


def test_dashboard_160x48(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=(160, 48))


def test_diff_pane_160x48(snap_compare, demo_app):
    async def show(pilot):
        await pilot.press("3")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=(160, 48), run_before=show)


def test_declare_modal_80x24(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=(80, 24), press=["d"])


def test_help_screen_120x36(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=(120, 36), press=["question_mark"])
