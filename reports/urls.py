from django.urls import path, re_path

from . import views

WEEK = r"(?P<week>\d{4}-W\d{2})"

app_name = "reports"
urlpatterns = [
    path("weekly/", views.weekly_latest, name="weekly-latest"),
    re_path(rf"^weekly/{WEEK}/$", views.weekly_report, name="weekly"),
    re_path(rf"^weekly/{WEEK}\.csv$", views.weekly_csv, name="weekly-csv"),
    re_path(rf"^weekly/{WEEK}/decisions/$", views.decision_add, name="decision-add"),
]
