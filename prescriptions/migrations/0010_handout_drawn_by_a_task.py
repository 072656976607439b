# Issued handouts are drawn by a task: a handout row exists (with its snapshot) before
# its PDF. Every existing row has its file: it is "ready".

import django.db.models.deletion
from django.db import migrations, models

import prescriptions.models


class Migration(migrations.Migration):

    dependencies = [
        ('prescriptions', '0009_print_scores'),
    ]

    operations = [
        migrations.AddField(
            model_name='handout',
            name='status',
            field=models.CharField(choices=[('preparing', 'Preparing'), ('rendering', 'Being drawn'), ('ready', 'Ready'), ('failed', 'Failed')], db_default='ready', default='ready', max_length=10),
        ),
        migrations.AddField(
            model_name='handout',
            name='attempts',
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name='handout',
            name='last_error',
            field=models.CharField(blank=True, db_default='', default='', max_length=300),
        ),
        migrations.AddField(
            model_name='handout',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='handout',
            name='ready_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='handout',
            name='program_link',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='prescriptions.programlink'),
        ),
        migrations.AlterField(
            model_name='handout',
            name='pdf',
            field=models.FileField(blank=True, upload_to=prescriptions.models.handout_path),
        ),
        migrations.AlterField(
            model_name='handout',
            name='sha256',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='handout',
            name='size',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name='handout',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'ready'), _negated=True), models.Q(models.Q(('pdf', ''), _negated=True), models.Q(('sha256', ''), _negated=True)), _connector='OR'), name='handout_ready_has_file'),
        ),
        migrations.AddIndex(
            model_name='handout',
            index=models.Index(condition=models.Q(('status__in', ['preparing', 'rendering', 'failed'])), fields=['next_attempt_at'], name='handout_not_ready_idx'),
        ),
    ]
