"""The write guard of the columns only the addon writes (no database)."""

import pytest

from odoo.addons.crm_lifecycle.lib.guard import WriteGuard


def test_closed_outside_open_inside_and_closed_again_after():
    guard = WriteGuard("test_guard")
    assert not guard.allowed()
    with guard.allow():
        assert guard.allowed()
        with guard.allow():
            assert guard.allowed()
        assert guard.allowed(), "leaving a nested allow() keeps the outer one"
    assert not guard.allowed()


def test_closed_again_after_an_error_and_open_to_the_superuser():
    guard = WriteGuard("test_guard_error")
    with pytest.raises(RuntimeError), guard.allow():
        raise RuntimeError
    assert not guard.allowed()
    assert guard.allowed(superuser=True)


def test_two_guards_are_independent():
    one, two = WriteGuard("one"), WriteGuard("two")
    with one.allow():
        assert not two.allowed()
