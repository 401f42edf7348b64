from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry

from app import notifications, telephony
from app.queueing import queue
from emulator.records import new_sid, rfc2822, utcnow

MOBILE = "+32470123456"


def test_a_mail_is_delivered_over_smtp_with_text_and_html(app, mailbox):
    notifications.send_mail("an@deklok.example", "We tried to reach you", "Plain body", "<p>HTML body</p>")
    [message] = mailbox.messages
    assert message["To"] == "an@deklok.example" and message["Subject"] == "We tried to reach you"
    assert message.get_body(("plain",)).get_content().strip() == "Plain body"
    assert "<p>HTML body</p>" in message.get_body(("html",)).get_content()


def test_a_queued_sms_goes_through_the_provider(desk):
    assert notifications.queue_text("+32470123456", "Ticket T20261127.0001")
    desk.run_jobs()
    desk.emulator.wait_idle()
    [message] = desk.emulator.messages
    assert (message["to"], message["from"], message["body"]) == ("+32470123456", "ServiceDesk", "Ticket T20261127.0001")


def test_no_sms_is_queued_for_a_landline(app, redis):
    assert not notifications.queue_text("+3234603535", "hello")
    assert redis.llen("rq:queue:notify") == 0


def test_a_failed_send_is_retried_later(desk, redis):
    desk.emulator.fail_rest = 500
    assert notifications.queue_text(MOBILE, "Ticket T20261127.0001")
    desk.run_jobs()
    assert redis.zcard("rq:scheduled:notify") == 1  # failed once, scheduled for a retry


@pytest.fixture
def impatient(monkeypatch):
    """The desk gives the provider half a second instead of ten before giving up on an answer."""
    monkeypatch.setattr(telephony, "REST_TIMEOUT_SECONDS", 0.5)


def retry_now() -> list[str]:
    """Queue every scheduled notify retry now (rather than in 30 s); their job ids."""
    registry = ScheduledJobRegistry(queue=queue("notify"))
    job_ids = registry.get_job_ids()
    for job_id in job_ids:
        registry.requeue(job_id)
    return job_ids


def test_an_sms_the_provider_took_but_answered_too_late_is_not_sent_again(desk, redis, impatient):
    desk.emulator.fail_rest = "late"  # the message is taken, the answer comes after our timeout
    assert notifications.queue_text(MOBILE, "Ticket T20261127.0001")
    desk.run_jobs()
    assert [m["body"] for m in desk.emulator.messages] == ["Ticket T20261127.0001"]

    desk.emulator.fail_rest = None
    [job_id] = retry_now()  # the timeout failed the job; its retry reads the provider's log first
    desk.run_jobs()
    desk.emulator.wait_idle()

    assert [m["body"] for m in desk.emulator.messages] == ["Ticket T20261127.0001"]
    assert queue("notify").fetch_job(job_id).get_status() == "finished"
    assert redis.zcard("rq:scheduled:notify") == 0


def test_an_sms_the_provider_refused_is_sent_by_the_retry_even_when_an_older_twin_is_in_its_log(desk, redis):
    desk.emulator.messages.append(  # the same text to the same number, two hours before this job
        {
            "sid": new_sid("SM"),
            "to": MOBILE,
            "from": "ServiceDesk",
            "body": "Ticket T20261127.0001",
            "status": "delivered",
            "date_created": rfc2822(utcnow() - timedelta(hours=2)),
        }
    )
    desk.emulator.fail_rest = 500
    assert notifications.queue_text(MOBILE, "Ticket T20261127.0001")
    desk.run_jobs()
    assert len(desk.emulator.messages) == 1  # refused: nothing new

    desk.emulator.fail_rest = None
    assert retry_now()
    desk.run_jobs()
    desk.emulator.wait_idle()

    assert len(desk.emulator.messages) == 2
    assert desk.emulator.messages[-1]["body"] == "Ticket T20261127.0001"


def test_a_second_sms_job_with_other_words_is_sent(desk):
    assert notifications.queue_text(MOBILE, "Ticket T20261127.0001")
    assert notifications.queue_text(MOBILE, "Ticket T20261127.0002")
    desk.run_jobs()
    desk.emulator.wait_idle()
    assert sorted(m["body"] for m in desk.emulator.messages) == ["Ticket T20261127.0001", "Ticket T20261127.0002"]
