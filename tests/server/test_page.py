"""The chat page at `/`, in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
by Selenium) against a real server with SmolLM2: it streams an answer, shows the expert, tokens/s and
draft figures, keeps Japanese text intact, does not send while an input method is composing, and
shows the API's error when the key is wrong."""
from __future__ import annotations

import shutil

import httpx
import pytest

from tests.server.test_server import KEY, serving

pytestmark = pytest.mark.browser


def _missing() -> str:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    for program, package in (("chromium", "chromium"), ("chromedriver", "chromium-driver")):
        if shutil.which(program) is None:
            return f"no {program} here (apt-get install -y {package})"
    return ""


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser):
    with serving() as srv:
        browser.get(srv.url + "/")
        yield browser


def wait(driver, condition, timeout=300):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def ask(driver, text: str, key: str = KEY) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.ID, "api-key")
    field.clear()
    field.send_keys(key)
    tokens = driver.find_element(By.ID, "max-tokens")
    tokens.clear()
    tokens.send_keys("8")
    driver.find_element(By.ID, "prompt").send_keys(text)
    driver.find_element(By.ID, "send").click()


def texts(driver, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def test_the_page_is_served_from_the_package_without_outside_resources():
    with serving() as srv:
        html = httpx.get(srv.url + "/").text
        assert "<textarea" in html and "/static/chat.js" in html and "http" not in html.replace("http-equiv", "")
        assert httpx.get(srv.url + "/static/chat.js").headers["content-type"].startswith("text/javascript")
        assert httpx.get(srv.url + "/static/nothing.js").status_code == 404


def test_a_streamed_answer_shows_its_expert_speed_and_drafting(page):
    question = "日本の首都は? Answer in English, one word."
    ask(page, question)
    wait(page, lambda d: texts(d, ".stats"))
    assert texts(page, ".user") == [question], "the Japanese text reaches the page unchanged"
    answer = texts(page, ".assistant")[-1]
    assert answer and answer != "…"
    stats = texts(page, ".stats")[-1]
    assert "expert " in stats and "tok/s" in stats and "draft " in stats


def test_enter_while_composing_does_not_send(page):
    before = len(texts(page, ".user"))
    page.execute_script("""
        const box = document.getElementById('prompt');
        box.value = 'にほんご';
        box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', isComposing: true, bubbles: true}));""")
    assert len(texts(page, ".user")) == before, "Enter that confirms a kana-to-kanji choice must not send"
    page.execute_script("""
        document.getElementById('prompt').dispatchEvent(
            new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));""")
    wait(page, lambda d: len(texts(d, ".stats")) == before + 1)
    assert texts(page, ".user")[-1] == "にほんご"


def test_a_wrong_key_shows_the_servers_error(page):
    ask(page, "hello", key="wrong-key")
    wait(page, lambda d: texts(d, ".error"))
    assert "API key" in texts(page, ".error")[-1]
