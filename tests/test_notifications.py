from app import notifications
from tests.conftest import run_jobs


def test_a_queued_mail_is_delivered_over_smtp_with_text_and_html(app, mailbox):
    assert notifications.queue_mail("an@deklok.example", "We tried to reach you", "Plain body", "<p>HTML body</p>")
    run_jobs(app)
    [message] = mailbox.messages
    assert message["To"] == "an@deklok.example" and message["Subject"] == "We tried to reach you"
    assert message.get_body(("plain",)).get_content().strip() == "Plain body"
    assert "<p>HTML body</p>" in message.get_body(("html",)).get_content()


def test_a_queued_sms_goes_through_the_provider(desk):
    assert notifications.queue_text("+32470123456", "Ticket T20261127.0001")
    desk.run_jobs()
    desk.emulator.wait_idle()
    [message] = desk.emulator.messages
    assert (message["to"], message["from"], message["body"]) == ("+32470123456", "+3234603535", "Ticket T20261127.0001")


def test_no_sms_is_queued_for_a_landline(app, redis):
    assert not notifications.queue_text("+3234603535", "hello")
    assert redis.llen("rq:queue:notify") == 0


def test_a_failed_send_is_retried_later(app, redis):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1)
    notifications.queue_mail("an@deklok.example", "s", "t")
    run_jobs(app)
    assert redis.zcard("rq:scheduled:notify") == 1  # failed once, scheduled for a retry
