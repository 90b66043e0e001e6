"""The pages team leads and admins work in, beside the agents' inbox.

One module an area, each with its own ``urlpatterns`` (collected in ``inbox.pages.urls``) and
its templates under ``templates/pages/<area>/``. Views stay thin: they check the role with the
decorators in ``inbox.pages.common``, validate with a form and call one service.
"""
