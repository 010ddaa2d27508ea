import reflex as rx


class S(rx.State):
    n: int = 0

    @rx.event
    def inc(self):
        self.n += 1


def index() -> rx.Component:
    return rx.box(rx.text("hello ", S.n), rx.button("inc", on_click=S.inc, id="inc"))


app = rx.App()
app.add_page(index, route="/")
