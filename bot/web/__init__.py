"""The web app: the employee's chat (page and widget) and the coach dashboard."""
