async def test_board(browser_page, live_stack):
    page = browser_page
    await page.goto("/console")
    await page.get_by_label("API key").fill(live_stack.supervisor_key)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Queues board").wait_for()
    print(await page.content())
    await page.get_by_role("link", name="Default").click()
    await page.get_by_role("heading", name="Default").wait_for()
