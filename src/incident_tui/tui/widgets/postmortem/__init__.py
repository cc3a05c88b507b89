"""Parts of the postmortem pane (tui/widgets/postmortem_form.py): rows, lists, dialogs, output, writer."""
