from django import forms

from triage.models import TriageItem


class DecisionForm(forms.Form):
    item = forms.ModelChoiceField(queryset=TriageItem.objects.only("pk"))
    text = forms.CharField(max_length=500, strip=True)
