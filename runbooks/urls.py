from django.urls import path

from . import views

app_name = "runbooks"
urlpatterns = [
    path("", views.runbook_list, name="list"),
    path("new/", views.runbook_new, name="new"),
    path("<slug:slug>/", views.runbook_detail, name="detail"),
    path("<slug:slug>/edit/", views.runbook_edit, name="edit"),
    path("<slug:slug>/history/", views.runbook_history, name="history"),
    path("<slug:slug>/versions/<int:number>/", views.runbook_version, name="version"),
    path("<slug:slug>/diff/", views.runbook_diff, name="diff"),
    path("<slug:slug>/restore/", views.runbook_restore, name="restore"),
    path("<slug:slug>/feedback/", views.feedback_add, name="feedback"),
    path("<slug:slug>/feedback/<int:feedback_id>/resolve/", views.feedback_resolve, name="feedback-resolve"),
]
