from django.urls import path

from . import views

app_name = "triage"
urlpatterns = [
    path("", views.queue_page, name="item-list"),
    path("items/bulk/", views.item_bulk, name="item-bulk"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/actions/<slug:name>/", views.item_action, name="item-action"),
]
