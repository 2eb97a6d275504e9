import io

from rich.console import Console

from offboard.db.progress import terminal_rows


def test_rows_add_up_over_the_tables_on_a_terminal():
    output = io.StringIO()
    with terminal_rows("export", Console(file=output, force_terminal=True, width=120)) as progress:
        progress("FILES.MEDIA", 100)
        progress("FILES.MEDIA", 250)
        progress("WIKIS.PAGE", 40)
        task = progress.bar.tasks[0]
        assert (task.completed, task.fields["table"]) == (290, "WIKIS.PAGE")
    assert "290 rows" in output.getvalue()


def test_a_pipe_gets_no_progress():
    with terminal_rows("export", Console(file=io.StringIO())) as progress:
        assert progress is None
