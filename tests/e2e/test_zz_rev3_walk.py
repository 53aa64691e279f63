import json
from tests.e2e.test_forecast_submit import *  # noqa
from tests.e2e.test_forecast_submit import bot, open_form, submit, values  # noqa


def test_walk(bot, fake_slack, sessions):
    now, org = utcnow(), OrgConfig()
    view = open_form(bot, fake_slack, "UGRACE")
    print("MODAL:", json.dumps(view, indent=1)[:4000])
    meta = view["private_metadata"]
    q = view["blocks"][1]["element"]["initial_option"]["value"]
    bad = submit(bot, values(q, "250 thousand", "100k"), "UGRACE", meta)
    print("ERRORS:", bad.text)
    bad2 = submit(bot, values(q, "300k", "250k"), "UGRACE", meta)
    print("ERRORS2:", bad2.text)
    good = submit(bot, values(q, "$250k", "320,000", "Acme renewal in Feb"), "UGRACE", meta)
    fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"), timeout=10)
    for c in fake_slack.calls_to("chat.postEphemeral"):
        print("CONFIRM:", c.params.get("text"))
    url = fake_slack.response_url()
    bot.post_command("/forecast", q, user_id="UGRACE", response_url=url)
    fake_slack.wait_for(lambda: fake_slack.responses(url) if hasattr(fake_slack, "responses") else True, timeout=10)
    import time
    for name in dir(fake_slack):
        if "respon" in name.lower():
            print("ATTR", name)
