"""The chat page at `/`, in a real headless browser (Debian's chromium driven by selenium through its
chromedriver): it loads from the package, asks for the API key the server wants, streams an answer in
English and in Japanese through the same OpenAI API, and shows the expert, tokens/s and drafting.
Skipped, with the reason, where no chromium/chromedriver is installed (`apt-get install chromium
chromium-driver`)."""
from __future__ import annotations

import shutil

import httpx
import pytest

from tests.server.test_server import KEY, serving

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not (CHROMEDRIVER and CHROMIUM),
                                 reason="no chromium + chromedriver here (apt-get install chromium chromium-driver)")]


@pytest.fixture(scope="module")
def page_server():
    with serving() as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def wait_for_text(browser, css: str, timeout: float = 180) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(lambda b: b.find_elements("css selector", css)
                                          and b.find_elements("css selector", css)[-1].text.strip())
    return browser.find_elements("css selector", css)[-1].text


def send(browser, text: str) -> None:
    box = browser.find_element("id", "prompt")
    box.clear()
    box.send_keys(text)
    browser.find_element("id", "send").click()


def test_the_page_is_served_from_the_package_without_a_key(page_server):
    page = httpx.get(page_server.url + "/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert httpx.get(page_server.url + "/static/chat.js", timeout=10).status_code == 200
    assert httpx.get(page_server.url + "/static/missing.js", timeout=10).status_code == 404


def test_a_conversation_streams_in_english_and_japanese_with_the_runtimes_account(page_server, browser):
    browser.get(page_server.url + "/")
    key = browser.find_element("id", "api-key")
    wait_for_text(browser, "#key-label", timeout=30)  # the server wants a key: the page asks for it
    key.send_keys(KEY)
    browser.execute_script("document.getElementById('api-key').dispatchEvent(new Event('change'))")
    browser.find_element("id", "max-tokens").clear()
    browser.find_element("id", "max-tokens").send_keys("8")

    send(browser, "Say hello in one short sentence.")
    stats = wait_for_text(browser, ".turn .stats")
    assert browser.find_elements("css selector", ".turn .assistant")[-1].text.strip()
    assert "expert " in stats and "tok/s" in stats and "draft " in stats

    send(browser, "日本の首都はどこですか？")
    wait_for_text(browser, ".turn:nth-of-type(2) .stats")
    turns = browser.find_elements("css selector", ".turn")
    assert len(turns) == 2 and turns[1].find_element("css selector", ".user").text == "日本の首都はどこですか？"
    assert "ja)" in turns[1].find_element("css selector", ".stats").text  # the router read the language
    assert not browser.find_elements("css selector", ".error")
