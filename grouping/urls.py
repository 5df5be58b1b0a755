from django.urls import path

from . import views

app_name = "grouping"
urlpatterns = [
    path("", views.suggestion_list, name="list"),
    path("<int:suggestion_id>/dismiss/", views.suggestion_dismiss, name="dismiss"),
    path("items/<int:item_id>/recompute/", views.item_recompute, name="item-recompute"),
]
