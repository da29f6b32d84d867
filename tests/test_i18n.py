"""Every user-facing string ships in English and Simplified Chinese."""

import io
import re
from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationImporter, trans_export

from .common import LifecycleCase

PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sdf%]")
I18N = Path(__file__).resolve().parents[1] / "crm_lifecycle" / "i18n"


def _load_zh_cn(env):
    env["res.lang"]._activate_lang("zh_CN")
    importer = TranslationImporter(env.cr, verbose=False)
    importer.load_file(str(I18N / "zh_CN.po"), "zh_CN")
    importer.save(overwrite=True)


def _msgids(po):
    return {entry.msgid for entry in po if not entry.obsolete}


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestTranslations(TransactionCase):
    def test_pot_matches_the_code(self):
        """The committed template holds exactly the terms Odoo exports today (`make i18n`)."""
        buffer = io.BytesIO()
        trans_export(False, ["crm_lifecycle"], buffer, "po", self.env.cr)
        live = _msgids(polib.pofile(buffer.getvalue().decode()))
        committed = _msgids(polib.pofile(str(I18N / "crm_lifecycle.pot")))
        self.assertFalse(live - committed, "terms missing from crm_lifecycle.pot: run `make i18n`")
        self.assertFalse(committed - live, "stale terms in crm_lifecycle.pot: run `make i18n`")

    def test_zh_cn_is_complete(self):
        po = polib.pofile(str(I18N / "zh_CN.po"))
        pot = polib.pofile(str(I18N / "crm_lifecycle.pot"))
        self.assertEqual(_msgids(po), _msgids(pot), "zh_CN.po is not merged with the template: run `make i18n`")
        missing = [e.msgid for e in po if not e.obsolete and (not e.msgstr or "fuzzy" in e.flags)]
        self.assertFalse(missing, f"untranslated in zh_CN.po: {missing}")
        for entry in po:
            # placeholders must survive translation, or formatting fails at run time
            self.assertEqual(
                sorted(PLACEHOLDER.findall(entry.msgid)), sorted(PLACEHOLDER.findall(entry.msgstr)), entry.msgid
            )

    def test_zh_cn_shows_in_the_web_client(self):
        _load_zh_cn(self.env)
        menu = self.env.ref("crm_lifecycle.crm_lifecycle_menu_root").with_context(lang="zh_CN")
        self.assertEqual(menu.name, "客户生命周期")
        group = self.env.ref("crm_lifecycle.module_category_crm_lifecycle").with_context(lang="zh_CN")
        self.assertEqual(group.name, "客户生命周期")


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestChineseExplanations(LifecycleCase):
    def test_reason_is_rendered_in_the_readers_language(self):
        _load_zh_cn(self.env)
        partner = self.customer("Chinese Reader's Customer")
        self.order(partner, days_ago=10)
        self.assertEqual(partner.ladder_stage, "customer")
        zh = partner.with_context(lang="zh_CN")
        self.assertTrue(zh.ladder_reason.startswith("1 笔订单，下单于"), zh.ladder_reason)
        self.assertIn("按时付款。下一步：客户需要在不同日期下单 2 笔（目前 1 笔）。", zh.ladder_reason)
        self.assertIn("Next: client needs", partner.with_context(lang="en_US").ladder_reason)
        labels = dict(self.env["res.partner"].with_context(lang="zh_CN")._fields["ladder_stage"]._description_selection(
            self.env(context={"lang": "zh_CN"})))  # fmt: skip
        self.assertEqual(
            [labels[key] for key in ("prospect", "customer", "client", "supporter", "advocate", "partner")],
            ["潜在顾客", "顾客", "客户", "支持者", "宣传者", "伙伴"],
        )
