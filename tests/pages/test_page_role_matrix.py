"""Every page opened by its URL as every role: the page itself refuses or serves.

Navigation hiding is not access control: `page_header` checks the role at the top of every
page. The matrix is `crm_core.access.PAGE_ROLES`; the store is empty, so an allowed page
shows its own title (or its empty state) and a refused one only the refusal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core import access, users
from tests.pages.conftest import APP, open_page

REFUSED = "No access to this page"
PAGES = sorted(p.stem for p in (Path(APP).parent / "pages").glob("*.py"))


def test_every_page_has_its_roles() -> None:
    assert set(PAGES) <= set(access.PAGE_ROLES)


@pytest.mark.parametrize(("page", "role"), [(p, r) for p in PAGES for r in users.ROLES])
def test_every_page_as_every_role(empty_db: Path, page: str, role: str) -> None:
    at = open_page(f"pages/{page}.py", "en", role=role)
    titles = [t.value for t in at.title]
    if access.may_open(role, page):
        assert REFUSED not in titles and titles, titles
    else:
        assert titles == [REFUSED]
        assert not at.button and not at.dataframe
